package settingsfile

import (
	"errors"
	"reflect"
	"testing"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

// FuzzDecode feeds settings files to Decode: no panic, every refusal is
// an *Error wrapping crmsync.ErrInvalid, and a file it accepts survives
// Encode and Decode unchanged. `make fuzz` runs it for a bounded time;
// `go test` runs the seeds.
func FuzzDecode(f *testing.F) {
	own, err := Encode(defaults())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(own)
	f.Add([]byte("objects:\n  contacts: true\n mappings: [\n"))
	f.Add([]byte("retry: {interval: 20m, max_attempts: 10, then_every: 24h}\n"))
	f.Add([]byte("a: &a [*a, *a]\nb: &b [*a, *a, *a, *a]\nc: [*b, *b, *b, *b]\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := Decode(b)
		if err != nil {
			var fe *Error
			if !errors.As(err, &fe) || !errors.Is(err, crmsync.ErrInvalid) {
				t.Fatalf("Decode error is not an *Error wrapping ErrInvalid: %v", err)
			}
			return
		}
		out, err := Encode(s)
		if err != nil {
			t.Fatalf("Encode of decoded settings: %v", err)
		}
		again, err := Decode(out)
		if err != nil {
			t.Fatalf("own export does not decode: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(s, again) {
			t.Fatalf("round trip changed the settings:\n %+v\n %+v", s, again)
		}
	})
}
