"""Load one corpus sample for real, the way its kind is loaded in the wild.

Run in a throwaway process by generate.py with AIBOM_CANARY set to a path that must not exist:
a malicious sample's payload creates it. Exit 0 when the load finished, 3 when it raised.
usage: load.py LOADER FILE
"""
import gzip
import bz2
import lzma
import io
import os
import pickle
import subprocess
import sys
import tarfile
import tempfile
import zipfile
import zlib


class Config:  # pickled as __main__.Config by generate.py
    pass


class Point:
    def __init__(self, x=0, y=0):
        self.x, self.y = x, y


def load_all(f):
    """Every pickle in the stream: any loop over pickle.load."""
    out = []
    while True:
        try:
            out.append(pickle.load(f))
        except EOFError:
            return out


def main(loader, path):
    if loader == 'pickle-all':
        with open(path, 'rb') as f:
            load_all(f)
    elif loader == 'pickle-file':
        with open(path, 'rb') as f:
            pickle.load(f)
    elif loader == 'pickle-bytesio':
        with open(path, 'rb') as f:
            load_all(io.BytesIO(f.read()))
    elif loader == 'pickle-bytes':
        with open(path, 'rb') as f:
            pickle.loads(f.read())
    elif loader in ('gzip', 'bz2', 'xz', 'lzma', 'zlib'):
        with open(path, 'rb') as f:
            raw = f.read()
        data = {'gzip': gzip.decompress, 'bz2': bz2.decompress, 'xz': lzma.decompress, 'lzma': lzma.decompress, 'zlib': zlib.decompress}[loader](raw)
        load_all(io.BytesIO(data))
    elif loader == 'torch':
        import torch
        torch.load(path, weights_only=False) if 'weights_only' in torch.load.__code__.co_varnames else torch.load(path)
    elif loader == 'torchscript':
        import torch
        torch.jit.load(path)
    elif loader == 'joblib':
        import joblib
        joblib.load(path)
    elif loader == 'numpy':
        import numpy as np
        r = np.load(path, allow_pickle=True)
        if hasattr(r, 'files'):
            for k in r.files:
                r[k]
    elif loader == 'dill':
        import dill
        with open(path, 'rb') as f:
            dill.load(f)
    elif loader == 'zip-members':
        with zipfile.ZipFile(path) as z:
            for n in z.namelist():
                load_all(io.BytesIO(z.read(n)))
    elif loader == 'tar-members':
        with tarfile.open(path) as t:
            for m in t.getmembers():
                if m.isfile():
                    load_all(t.extractfile(m))
    elif loader == '7z-members':
        with tempfile.TemporaryDirectory() as d:
            subprocess.run(['7z', 'x', '-y', f'-o{d}', path], check=True, stdout=subprocess.DEVNULL)
            for root, _, files in os.walk(d):
                for n in sorted(files):
                    with open(os.path.join(root, n), 'rb') as f:
                        load_all(f)
    else:
        raise SystemExit(f'unknown loader {loader}')


if __name__ == '__main__':
    try:
        main(sys.argv[1], sys.argv[2])
    except SystemExit:
        raise
    except BaseException as e:  # the load failed: reported, the canary decides the label
        print(f'{type(e).__name__}: {e}', file=sys.stderr)
        sys.exit(3)
