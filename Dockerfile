# RegOpt Lab — one classroom server in a container.
#   docker build -t regopt-lab .
#   docker run -p 8501:8501 regopt-lab                                          # http://host:8501/
#   docker run -p 8501:8501 -e STREAMLIT_SERVER_BASE_URL_PATH=regopt regopt-lab  # behind nginx at /regopt/
# Settings come from .streamlit/config.toml (the classroom config: headless, no file watcher, no post-run GC,
# XSRF on, no tracebacks to browsers); any option can be overridden with STREAMLIT_<SECTION>_<OPTION>.
# Not built or run in this project's CI (Docker cannot run there); see deploy/CLASSROOM.md.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    STREAMLIT_SERVER_ADDRESS=0.0.0.0 \
    STREAMLIT_SERVER_PORT=8501

RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin regopt

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt

# The app is owned by root and read-only for the user that runs it.
COPY app.py ./
COPY .streamlit/ .streamlit/
COPY pages/ pages/
COPY regopt_core/ regopt_core/
COPY deploy/__init__.py deploy/healthcheck.py deploy/warm.py deploy/precompute.py deploy/
# The shared result store: every page's defaults and prepared states, computed once at build time and
# opened read-only by the server (a store of other code is never read; see deploy/precompute.py).
ENV REGOPT_STORE=/app/.regopt_store
RUN python -m deploy.precompute

USER regopt
EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "/app/deploy/healthcheck.py"]
CMD ["python", "-m", "streamlit", "run", "app.py"]
