"""gunicorn settings for booru; BOORU_BIND, BOORU_WORKERS and BOORU_THREADS override them."""
import os

bind = os.environ.get("BOORU_BIND", "127.0.0.1:5000")
workers = int(os.environ.get("BOORU_WORKERS", (os.cpu_count() or 1) + 1))
threads = int(os.environ.get("BOORU_THREADS", 4))
worker_class = "gthread"
timeout = 120
graceful_timeout = 30
accesslog = "-"
errorlog = "-"
