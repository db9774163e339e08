"""reactclip's speech package: audio in, transcript out (Vosk, offline). Filled in by the speech issue."""
