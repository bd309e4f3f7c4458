# auditlens service image: `auditlens serve` (scorer + API) on a slim Python base.
# Build:  docker build -t auditlens .
# Run:    docker run -e AUDITLENS_KAFKA_BOOTSTRAP_SERVERS=kafka:9092 -p 8080:8080 auditlens

# --- build stage: resolve the locked dependencies into a virtual environment ------------
FROM python:3.11-slim-bookworm AS build
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never
RUN pip install --no-cache-dir uv==0.13.8
WORKDIR /app
# Dependencies first (cached while only the code changes), exactly as in uv.lock.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --extra postgres --extra s3 --no-install-project
COPY features ./features
COPY models ./models
COPY training ./training
COPY service ./service
RUN uv sync --frozen --no-dev --extra postgres --extra s3 --no-editable

# --- runtime stage: only the environment, as an unprivileged user -----------------------
FROM python:3.11-slim-bookworm AS runtime
RUN groupadd --system --gid 10001 auditlens \
 && useradd --system --uid 10001 --gid auditlens --home-dir /var/lib/auditlens auditlens \
 && mkdir -p /var/lib/auditlens && chown auditlens:auditlens /var/lib/auditlens
COPY --from=build /app/.venv /app/.venv
ENV PATH="/app/.venv/bin:$PATH" \
    PYTHONUNBUFFERED=1 \
    AUDITLENS_DATA_DIR=/var/lib/auditlens \
    AUDITLENS_API_HOST=0.0.0.0 \
    AUDITLENS_API_PORT=8080
USER auditlens
WORKDIR /var/lib/auditlens
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"AUDITLENS_API_PORT\"]}/livez', timeout=2)"]
ENTRYPOINT ["auditlens"]
CMD ["serve"]
