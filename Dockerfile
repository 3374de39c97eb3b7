FROM python:3.11-slim
WORKDIR /srv/rolltext
COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY migrations ./migrations
COPY templates ./templates
RUN pip install --no-cache-dir .
EXPOSE 8000
CMD ["sh", "-c", "alembic upgrade head && rolltext serve --host 0.0.0.0 --port 8000"]
