"""A Cumulocity tenant emulator: the certificate-authority contract over real HTTPS on loopback."""
