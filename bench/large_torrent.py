# Writes a valid single-file torrent of N 16 KiB pieces with random piece
# hashes (its data is never read when imported fresh).
# usage: python3 bench/large_torrent.py N OUT.torrent
import os, sys
n = int(sys.argv[1]); out = sys.argv[2]
plen = 16384
def be(x):
    if isinstance(x, int): return b'i%de' % x
    if isinstance(x, bytes): return b'%d:%s' % (len(x), x)
    if isinstance(x, str): return be(x.encode())
    if isinstance(x, dict):
        return b'd' + b''.join(be(k) + be(v) for k, v in sorted(x.items())) + b'e'
info = {'length': n*plen, 'name': 'big%d' % n, 'piece length': plen, 'pieces': os.urandom(20*n)}
with open(out, 'wb') as f:
    f.write(b'd4:info' + be(info) + b'e')
