FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY geo ./geo
COPY api ./api
COPY maps ./maps
COPY data ./data
RUN pip install --no-cache-dir -e .
EXPOSE 8000
CMD ["renewal", "serve", "--host", "0.0.0.0", "--port", "8000"]
