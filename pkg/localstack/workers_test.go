package localstack

import (
	"testing"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

// Killed workers resolve nothing; started again, they resolve what
// waited.
func TestKillAndStartWorkers(t *testing.T) {
	w := start(t, backends(t)[0])
	w.KillWorkers()
	w.KillWorkers() // twice: nothing to stop
	if _, err := w.HubSpot.CreateAsUser(crmsync.HSContact, map[string]string{"email": "killed@example.com", "lastname": "K", "company": "C"}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	if w.leadByEmail("killed@example.com") != nil {
		t.Fatal("a killed worker pool synced the contact")
	}
	w.StartWorkers()
	w.StartWorkers() // twice: one pool
	w.settle()
	if w.leadByEmail("killed@example.com") == nil {
		t.Fatal("the restarted worker pool did not sync the contact")
	}
}
