# The application image of docker-compose.yml: the same code as `make run` (web, worker and the
# one-shot setup), configured by O2C_* settings.
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
COPY . .
# An editable install keeps alembic.ini, the migrations and templates where settings.ROOT expects
# them; compiled catalogs are not in git (*.mo is ignored), so they are built here.
RUN pip install -e . \
    && if ls i18n/locales/*/LC_MESSAGES/messages.po >/dev/null 2>&1; then \
           pybabel compile --use-fuzzy -d i18n/locales -D messages; \
       fi \
    && useradd --system --home-dir /app o2c \
    && mkdir -p /app/.data && chown o2c /app/.data
USER o2c

EXPOSE 8000
CMD ["python", "worker.py"]
