# socialbiz production image: gunicorn serves the web app (static files by whitenoise); the same image runs the
# Celery worker and beat (see docker-compose.yml). Configuration is by environment variable only (.env.example).
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PYTHONPATH=/app \
    DJANGO_SETTINGS_MODULE=socialbiz.settings \
    VAR_DIR=/app/var \
    STATIC_ROOT=/app/var/static

# A fixed, unprivileged user; it owns only /app/var (database-free state: static files, media, beat schedule).
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home --shell /usr/sbin/nologin app

WORKDIR /app

# Dependencies first, in their own layer: it is rebuilt only when pyproject.toml or constraints.txt change.
# The list comes from [project].dependencies, pinned by constraints.txt. psycopg2-binary and Pillow ship wheels,
# so no compiler or system libraries are needed.
COPY pyproject.toml constraints.txt ./
RUN python -c "import tomllib; print(*tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies'], sep=chr(10))" \
        > /tmp/requirements.txt \
    && pip install --no-cache-dir -c constraints.txt -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# The source. The project is run from /app (PYTHONPATH, WORKDIR) rather than installed into site-packages:
# settings.BASE_DIR is the parent of the socialbiz package, and templates/, static/ and the apps' template
# files must be found next to it, which a non-editable `pip install .` would not give.
COPY . .
RUN python -m compileall -q /app \
    && mkdir -p /app/var/static /app/var/media \
    && chown -R app:app /app/var

USER app

# Collect static files into the image, so that the default command works on its own (the manifest storage used
# with DEBUG off needs them). The key is a throw-away used only for this step; no database is touched.
RUN SECRET_KEY=build-time-collectstatic-only python manage.py collectstatic --noinput

EXPOSE 8000

# Workers: gunicorn reads WEB_CONCURRENCY itself (default 1). Access log to stdout, error log to stderr.
CMD ["gunicorn", "socialbiz.wsgi:application", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
