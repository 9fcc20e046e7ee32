// Package interop proves that archivd interoperates with other BitTorrent
// clients (transmission, libtorrent, aria2c) and tools (mktorrent,
// opentracker, an HTTP web seed) over loopback. Everything is in the tests;
// run them inside a network namespace:
//
//	unshare --net sh -c 'ip link set lo up && go test ./interop/...'
//
// ARCHIVD_INTEROP_BIG=1 raises the data size from 64 MiB (256 MiB for
// TestArchivdSeedsToClients) to 512 MiB.
package interop
