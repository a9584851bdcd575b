"""FastAPI service: OGC API – Features, planning, progress and maps over a store."""
