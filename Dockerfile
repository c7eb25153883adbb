# One image for every process of the platform (web, ingest, simulator): `fleet <command>`.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY fleet fleet
COPY telemetry telemetry
COPY dispatch dispatch
COPY optimizer optimizer
COPY web web
COPY simulator simulator
RUN pip install --no-cache-dir .
RUN useradd --system fleet \
    && mkdir -p /var/lib/fleet/spool && chown -R fleet /var/lib/fleet  # the ingest spool volume
USER fleet
ENTRYPOINT ["fleet"]
