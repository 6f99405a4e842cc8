"""Key registry helpers: pure parsing and validation of key METADATA.

The bot never stores private keys, passwords, PINs or SMS codes; these modules help it
recognise such material so handlers can refuse it: `secrets` judges text (one detector for
every text path), `private_keys` judges files, `der` is the ASN.1 reader both need, and
`certificates` reads public certificates. `service` owns every change to a stored key.
"""

from __future__ import annotations
