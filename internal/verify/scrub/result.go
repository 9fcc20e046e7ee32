package scrub

import "github.com/archivd/archivd/internal/catalog"

// Kind is the outcome of checking one piece: OK, or the catalog's
// finding kind.
type Kind = catalog.FindingKind

// Kinds of piece results.
const (
	OK           Kind = "ok"
	HashMismatch      = catalog.FindingHashMismatch
	MissingFile       = catalog.FindingMissingFile
	ShortFile         = catalog.FindingShortFile
	IOError           = catalog.FindingIOError
)

// Result is the outcome of one piece. For a problem while reading, File,
// Path and Offset name the first file and the offset within it where the
// piece could not be read; for a hash mismatch, where the piece starts.
type Result struct {
	Piece  int    `json:"piece"`
	Kind   Kind   `json:"kind"`
	File   int    `json:"file_index"`
	Path   string `json:"file_path"`
	Offset int64  `json:"file_offset"`
	Detail string `json:"detail,omitempty"`
}

// Summary is what a scrub of a piece range did.
type Summary struct {
	PiecesChecked int
	BytesHashed   int64 // bytes read from disk and hashed
	Bad           []Result
}
