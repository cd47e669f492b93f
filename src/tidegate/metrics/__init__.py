"""The process's Prometheus instruments and their multiprocess directory (a leaf package:
the engine and the APIs record into it, `monitoring` serves it)."""
