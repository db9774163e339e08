"""reactclip's speech package: audio in, transcript out (ffmpeg, then Vosk, offline). It imports nothing
of the other packages; the bot wires it to the one path (``Orchestrator.hear``)."""
