"""The ASGI application uvicorn serves (`app.asgi:app`), configured from the environment."""

from app import observability
from app.config import get_settings
from app.main import create_app, tune_garbage_collector

settings = get_settings()
observability.configure(settings.log_level, json_logs=settings.json_logs)
app = create_app(settings)
tune_garbage_collector()
