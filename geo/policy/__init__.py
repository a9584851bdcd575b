"""Policy: the profiles (one data file per jurisdiction) and the pure rules that read them.

Eligibility, scoring, funding and the candidate list take frames and return frames; no I/O.
"""
