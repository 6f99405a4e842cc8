"""Key registry helpers: pure parsing and validation of key METADATA.

The bot never stores private keys, passwords, PINs or SMS codes; these modules help it
recognise such material so handlers can refuse it (see `validation.find_sensitive` and
`certificates.classify_upload`).
"""

from __future__ import annotations
