"""mosaik simulators of the physical world: profiles, events and the grid."""
