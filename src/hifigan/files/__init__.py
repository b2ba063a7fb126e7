"""Files on disk: atomic writes, the one check of a named path, RIFF/WAVE headers, WAV or RF64 output."""
