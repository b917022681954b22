"""Keys, CSRs, certificates, chains and the tenant's PKCS#7 answers (cryptography only)."""
