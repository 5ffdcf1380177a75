"""Field encryption: secrets at rest under MultiFernet, keys from a pluggable source.

`sources` fetches the Fernet keys (environment, file, AWS Secrets Manager, Vault);
`cipher` turns them into one cached MultiFernet; `fields` stores ciphertext in the
database and hands out `SealedSecret`s that decrypt only when asked.
"""
