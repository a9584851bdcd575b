"""Progress: stage rules, the official working-day calendar, deadlines per profile, and the stage ledger store."""
