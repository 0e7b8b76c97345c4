"""get_file: download a file once into Keras' cache (``~/.keras/datasets``) and reuse it."""
import hashlib
import os
import shutil
import tarfile
import tempfile
import urllib.parse
import urllib.request
import zipfile

__all__ = ["get_file", "validate_file", "cache_root"]


def cache_root(cache_dir=None):
    """Keras' cache: `cache_dir`, else $KERAS_HOME, else ~/.keras (else a temp dir if unwritable)."""
    root = cache_dir or os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    if not os.access(root, os.W_OK) and os.path.exists(root):
        root = os.path.join(tempfile.gettempdir(), ".keras")
    return root


def _hash_file(path, algorithm="sha256", chunk_size=65535):
    hasher = hashlib.sha256() if algorithm in ("sha256", "auto") else hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(chunk_size), b""):
            hasher.update(chunk)
    return hasher.hexdigest()


def validate_file(fpath, file_hash, algorithm="auto"):
    """True when the file's sha256 (or md5, for a 32-character hash) equals file_hash."""
    if algorithm == "auto":
        algorithm = "md5" if len(file_hash) == 32 else "sha256"
    return _hash_file(fpath, algorithm) == str(file_hash)


def get_file(fname, origin, untar=False, md5_hash=None, file_hash=None, cache_subdir="datasets",
             hash_algorithm="auto", extract=False, archive_format="auto", cache_dir=None):
    """The local path of `fname`, downloading it from `origin` only when it is not in the
    cache (or fails its hash). Downloads go to a temporary file renamed on success, so an
    interrupted download never leaves a broken cached file; a hash mismatch raises ValueError.
    Without `fname` the name is the last part of `origin`'s path (as tf-keras)."""
    if hash_algorithm not in ("auto", "sha256", "md5"):
        raise ValueError(f"get_file: hash_algorithm must be 'auto', 'sha256' or 'md5', got {hash_algorithm!r}")
    if not fname:
        fname = os.path.basename(urllib.parse.urlsplit(origin or "").path)
        if not fname:
            raise ValueError(f"get_file: no fname given, and none can be read from origin={origin!r}; pass fname")
    fname = os.fspath(fname)
    datadir = os.path.join(cache_root(cache_dir), cache_subdir)
    os.makedirs(datadir, exist_ok=True)
    if md5_hash is not None and file_hash is None:
        file_hash, hash_algorithm = md5_hash, "md5"
    untar_fpath = os.path.join(datadir, fname)
    fpath = untar_fpath + ".tar.gz" if untar else untar_fpath

    if untar and os.path.isdir(untar_fpath):
        return untar_fpath  # already extracted: reuse it (even without the archive)
    download = not os.path.exists(fpath)
    if not download and file_hash is not None and not validate_file(fpath, file_hash, hash_algorithm):
        download = True  # a stale or corrupt copy
    if download and not origin:
        raise ValueError(f"get_file: {fname} is not in the cache ({datadir}) and origin is {origin!r}: pass the "
                         "URL to download it from")
    if download:
        fd, tmp = tempfile.mkstemp(dir=datadir, prefix=".download-")
        os.close(fd)
        try:
            try:
                with urllib.request.urlopen(origin) as response, open(tmp, "wb") as out:
                    shutil.copyfileobj(response, out)
            except Exception as exc:  # noqa: BLE001 (re-raised with the URL)
                raise OSError(f"Failed to download {fname} from {origin}: {exc}") from exc
            if file_hash is not None and not validate_file(tmp, file_hash, hash_algorithm):
                raise ValueError(f"The file downloaded from {origin} does not match the expected hash "
                                 f"{file_hash}: it may be corrupted or changed; nothing was cached.")
            os.replace(tmp, fpath)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)

    if untar:
        if not os.path.exists(untar_fpath):
            _extract(fpath, datadir, "tar")
        return untar_fpath
    if extract:
        _extract(fpath, datadir, archive_format)
    return fpath


def _extract(path, dest, archive_format="auto"):
    """Extracts a tar or zip archive, refusing members that would land outside `dest`."""
    formats = ["tar", "zip"] if archive_format == "auto" else [archive_format]
    dest = os.path.realpath(dest)
    for fmt in formats:
        if fmt == "tar" and tarfile.is_tarfile(path):
            with tarfile.open(path) as archive:
                for member in archive.getmembers():
                    _check_inside(dest, member.name)
                    if member.issym() or member.islnk():
                        raise ValueError(f"refusing to extract the link {member.name!r} from {path}")
                archive.extractall(dest)
            return True
        if fmt == "zip" and zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                for name in archive.namelist():
                    _check_inside(dest, name)
                archive.extractall(dest)
            return True
    return False


def _check_inside(dest, name):
    target = os.path.realpath(os.path.join(dest, name))
    if os.path.commonpath([dest, target]) != dest:
        raise ValueError(f"refusing to extract {name!r}: it would be written outside {dest}")
