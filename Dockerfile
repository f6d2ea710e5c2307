# keycase's API and worker image (docker-compose.yml builds it for both services).
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY domain domain
COPY workflows workflows
COPY activities activities
COPY store store
COPY api api
COPY worker worker
COPY local_stack local_stack
COPY cli cli
COPY config config
COPY payloads payloads
COPY keycase_gateway keycase_gateway
COPY observability observability
COPY reports reports
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11-slim
# The PDF reports embed NanumGothic (Korean); without it only HTML/JSON/CSV reports work.
RUN apt-get update && apt-get install -y --no-install-recommends fonts-nanum \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /install /usr/local
# An unprivileged user; the data dir only matters for the embedded SQLite default.
RUN useradd --system --uid 10001 --home-dir /var/lib/keycase --create-home keycase \
    && install -d -o keycase -g keycase /var/lib/keycase/reports
USER keycase
WORKDIR /var/lib/keycase
ENV KEYCASE_DATA_DIR=/var/lib/keycase \
    PYTHONUNBUFFERED=1
EXPOSE 8000
# `keycase worker` stops gracefully on SIGTERM, which is what `docker stop` sends.
ENTRYPOINT ["keycase"]
CMD ["worker"]
