# The mock as a container: docker build -t prosper-voice-mock . && docker run -p 8765:8765 prosper-voice-mock
# The control API (/__mock/) is on only with -e PROSPER_MOCK_CONTROL_TOKEN=...: see docs/container.md.

# Builder: the wheel, from the sources a wheel needs (the same files the sdist carries).
FROM python:3.11-slim AS builder
WORKDIR /src
COPY pyproject.toml README.md LICENSE openapi.json ./
COPY mock ./mock
COPY contracts ./contracts
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /dist .

# Runtime: the wheel and its dependencies, nothing of the build, run by an unprivileged user.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PROSPER_MOCK_PORT=8765
COPY --from=builder /dist/ /tmp/dist/
RUN pip install --no-cache-dir /tmp/dist/prosper_voice_mock-*.whl \
    && rm -rf /tmp/dist \
    && groupadd --gid 10001 mock \
    && useradd --create-home --uid 10001 --gid 10001 --shell /usr/sbin/nologin mock
COPY docker/entrypoint.py docker/healthcheck.py /opt/prosper-mock/
USER 10001:10001
WORKDIR /home/mock
EXPOSE 8765
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "/opt/prosper-mock/healthcheck.py"]
ENTRYPOINT ["python", "/opt/prosper-mock/entrypoint.py"]
CMD ["--host", "0.0.0.0"]
