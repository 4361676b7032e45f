package crmsync

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzTriggerRoundTrip holds DecodeTrigger to more than not panicking:
// refusals are ErrInvalid or ErrUnknownVersion, and a trigger it accepts
// encodes to a fixed point: decoding its encoding and encoding again
// gives the same bytes (what the worker re-enqueues is what it read; an
// empty list and an absent one are the same trigger). `make fuzz` runs it for a bounded time; `go test` the seeds.
func FuzzTriggerRoundTrip(f *testing.F) {
	in := sampleTrigger()
	b, err := EncodeTrigger(in)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	in.Kind = KindAssociationChanged
	in.Association = &AssociationChange{To: RecordRef{Side: HubSpot, Object: HSCompany, ID: "9"}, Type: "CONTACT_TO_COMPANY", Removed: true}
	if b, err = EncodeTrigger(in); err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{"v":99,"trigger":{}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		tr, err := DecodeTrigger(b)
		if err != nil {
			if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrUnknownVersion) {
				t.Fatalf("DecodeTrigger error of an unknown kind: %v", err)
			}
			return
		}
		out, err := EncodeTrigger(tr)
		if err != nil {
			t.Fatalf("EncodeTrigger of a decoded trigger: %v", err)
		}
		again, err := DecodeTrigger(out)
		if err != nil {
			t.Fatalf("own encoding does not decode: %v", err)
		}
		out2, err := EncodeTrigger(again)
		if err != nil || !bytes.Equal(out, out2) {
			t.Fatalf("round trip changed the trigger:\n %s\n %s (%v)", out, out2, err)
		}
	})
}
