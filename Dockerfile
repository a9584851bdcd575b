# The /edit page's drawing library comes from npm at build time (never from a CDN, never pasted into the repo).
FROM node:20-slim AS web
WORKDIR /web
COPY api/web/package.json api/web/package-lock.json ./
RUN npm ci --no-audit --no-fund

FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY geo ./geo
COPY api ./api
COPY maps ./maps
COPY data ./data
COPY --from=web /web/node_modules ./api/web/node_modules
RUN pip install --no-cache-dir -e .
# The service never needs root: run as an unprivileged user that owns only ./var (the embedded store, if used).
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin renewal \
    && mkdir -p /app/var && chown renewal:renewal /app/var
USER renewal
EXPOSE 8000
CMD ["renewal", "serve", "--host", "0.0.0.0", "--port", "8000"]
