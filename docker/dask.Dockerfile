# A Dask scheduler / worker image with gridtwin installed (docker-compose.yml: dask-scheduler,
# dask-worker). Scheduler and workers use this one image, so they run the same dask and
# distributed as each other; the client (`gridtwin sweep --scheduler`) needs the same versions.
FROM python:3.12-slim
ENV PIP_NO_CACHE_DIR=1 PYTHONUNBUFFERED=1
COPY . /opt/gridtwin
RUN pip install /opt/gridtwin \
    && python -c "import distributed, gridtwin.sweeps; print('dask', distributed.__version__)"
