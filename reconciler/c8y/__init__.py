"""The device's and the administrator's side of the Cumulocity certificate-authority contract."""
