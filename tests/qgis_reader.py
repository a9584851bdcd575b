"""Load every collection of a served API in QGIS (Debian's ``python3-qgis``), as a GIS officer would.

Run with Debian's ``/usr/bin/python3`` (QGIS is not in the project's virtualenv) and ``QT_QPA_PLATFORM=offscreen``:

    python3 tests/qgis_reader.py BASE_URL USER TOKEN AUTH_DB_DIR COLLECTION...

It creates a QGIS authentication configuration (method Basic, the user name and the token as password) in a fresh
authentication database, adds each collection as an "OGC API – Features" layer through it, and prints one JSON
object: per collection, whether the layer is valid, its feature count as QGIS reports it and as it reads it, its
field names and QGIS types, and every feature's ``name`` (to check Chinese text).
"""

from __future__ import annotations

import json
import os
import sys


def main(base: str, user: str, token: str, auth_dir: str, collections: list[str]) -> dict:
    os.environ["QGIS_AUTH_DB_DIR_PATH"] = auth_dir
    from qgis.core import QgsApplication, QgsAuthMethodConfig, QgsVectorLayer

    app = QgsApplication([], False)
    app.initQgis()
    manager = QgsApplication.authManager()
    manager.setPasswordHelperEnabled(False)
    if not manager.setMasterPassword("renewal-test-master", True):
        raise SystemExit("cannot set the QGIS master password")
    config = QgsAuthMethodConfig()
    config.setName("renewal")
    config.setMethod("Basic")
    config.setConfig("username", user)
    config.setConfig("password", token)
    if not manager.storeAuthenticationConfig(config):
        raise SystemExit("cannot store the QGIS authentication configuration")
    out: dict = {"authcfg": config.id(), "layers": {}}
    for cid in collections:
        uri = f"url='{base}' typename='{cid}' authcfg={config.id()} pagingEnabled='true' restrictToRequestBBOX='0'"
        layer = QgsVectorLayer(uri, cid, "OAPIF")
        info: dict = {"valid": layer.isValid()}
        if layer.isValid():
            names_index = layer.fields().indexOf("name")
            read = 0
            names = []
            for feature in layer.getFeatures():
                read += 1
                if names_index >= 0:
                    names.append(feature.attribute(names_index))
            info |= {
                "count": layer.featureCount(),
                "read": read,
                "fields": {f.name(): f.typeName() for f in layer.fields()},
                "names": [n if isinstance(n, str) else None for n in names],
            }
        out["layers"][cid] = info
    return out


if __name__ == "__main__":
    result = main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:])
    print(json.dumps(result, ensure_ascii=False), flush=True)
    # QGIS 3.22 may crash while tearing down its network threads headless; the result is already out.
    os._exit(0)
