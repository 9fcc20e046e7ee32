package importer

import (
	"fmt"
	"strings"

	"github.com/anacrolix/torrent/metainfo"
	"github.com/archivd/archivd/internal/catalog"
	"github.com/archivd/archivd/internal/torrentfile"
)

// blockSize is the request size of BitTorrent peers (16 KiB).
const blockSize = 16 << 10

// Warnings lists what an operator should know about a torrent archivd
// accepts but cannot serve to every client. Today one case: a hybrid
// (v1+v2) torrent with a file that ends inside a 16 KiB block before the
// last file. A v1 peer such as libtorrent requests that whole block, the
// file's tail plus the BEP 47 padding after it; the engine (anacrolix/torrent
// v1.61.0) sizes the piece by the v2 layout, refuses the request as
// overflowing the piece and drops the connection, so such a peer cannot
// download the torrent from archivd (interop
// TestHybridSeedingStallsWhereAFileEndsMidBlock). Downloading, verifying,
// and seeding to peers that use the v2 layout work.
func Warnings(nt catalog.NewTorrent) []string {
	if nt.Metainfo == nil {
		return nil
	}
	_, info, err := torrentfile.Decode(nt.Metainfo)
	if err != nil || !info.HasV1() || !info.HasV2() { // Add refuses a bad one with the reason
		return nil
	}
	var real []metainfo.FileInfo
	for _, f := range info.Files {
		if !strings.Contains(f.Attr, "p") && f.Length > 0 {
			real = append(real, f)
		}
	}
	for i, f := range real {
		if i < len(real)-1 && f.Length%blockSize != 0 {
			return []string{fmt.Sprintf("torrent %s is a hybrid (v1+v2) whose file %s ends inside a 16 KiB block: "+
				"libtorrent-based clients cannot download it from archivd (engine limit, see docs/INTEROP.md); "+
				"downloading, verifying and seeding to other archivd nodes work", nt.Name, strings.Join(f.BestPath(), "/"))}
		}
	}
	return nil
}
