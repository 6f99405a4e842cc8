# Kilt bot image: the README's install steps in a build stage, a slim non-root runtime stage.
#   docker build -t kilt-bot .
#   docker run --env-file .env kilt-bot            # long polling (the default command)
#   docker run --env-file .env kilt-bot run --webhook
# Base pinned by tag; pin it by digest (python:3.11.11-slim-bookworm@sha256:...) if your
# registry policy asks for it.
ARG PYTHON_IMAGE=python:3.11.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
# README step 1: a virtual environment and an install of the project (editable, because the
# bot reads locales/ and knowledge/ next to its code).
RUN python -m venv /opt/venv
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY storage ./storage
COPY locales ./locales
COPY knowledge ./knowledge
# Bytecode and the parsed texts (locales/__pycache__, bot/i18n.py) are made here: the runtime
# stage cannot write next to the code, and each start would otherwise redo them.
RUN /opt/venv/bin/pip install -e . \
    && /opt/venv/bin/python -m compileall -q bot handlers storage \
    && /opt/venv/bin/python -c "from bot.i18n import Translator; Translator()"

FROM ${PYTHON_IMAGE}
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DATA_DIR=/app/data
RUN groupadd --system --gid 10001 kilt \
    && useradd --system --uid 10001 --gid kilt --home-dir /app --shell /usr/sbin/nologin kilt
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
WORKDIR /app
# Only ./data is writable (the SQLite file and key file when DATABASE_URL/DATA_KEY are unset).
RUN mkdir -p /app/data && chown kilt:kilt /app/data
USER kilt
EXPOSE 8080
# README steps 2 and 3: `python -m bot migrate`, then `python -m bot run [--webhook]`
# (run migrates too; compose.yaml runs migrate once before starting several instances).
ENTRYPOINT ["python", "-m", "bot"]
CMD ["run"]
