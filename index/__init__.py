"""Storage: Chroma vectors, BM25 with Swedish stemming, and the SQLite facts store."""
