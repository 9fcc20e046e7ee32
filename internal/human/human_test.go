package human

import "testing"

func TestBytesUsesBinaryUnits(t *testing.T) {
	t.Parallel()
	for n, want := range map[int64]string{
		0:             "0 B",
		1023:          "1023 B",
		1024:          "1.0 KiB",
		1536:          "1.5 KiB",
		5 << 30:       "5.0 GiB",
		1<<62 + 1<<61: "6.0 EiB",
	} {
		if got := Bytes(n); got != want {
			t.Errorf("Bytes(%d) = %q, want %q", n, got, want)
		}
	}
}
