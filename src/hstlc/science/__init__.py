"""Pure numerics: arrays in, arrays (or frozen dataclasses) out. No files, database or printing."""
