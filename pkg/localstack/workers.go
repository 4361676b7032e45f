package localstack

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/worker"
)

// WorkerVisibility is the visibility timeout the local worker pool
// receives with (the deployed worker's is its function timeout): a
// trigger received by a worker that dies is visible again after it.
const WorkerVisibility = 30 * time.Second

// workerPool is the stack's worker pool, which KillWorkers stops and
// StartWorkers starts again (make chaos kills it mid-batch).
type workerPool struct {
	w       *worker.Worker
	q       crmsync.Queue
	n       int
	log     *slog.Logger
	parent  context.Context
	goRun   func(func())
	mu      sync.Mutex
	cancel  context.CancelFunc
	stopped chan struct{}
}

// start runs the pool until parent ends or kill; p.mu is held.
func (p *workerPool) start() {
	ctx, cancel := context.WithCancel(p.parent)
	done := make(chan struct{})
	p.cancel, p.stopped = cancel, done
	p.goRun(func() {
		defer close(done)
		if err := p.w.Run(ctx, p.q, p.n, WorkerVisibility); err != nil && !errors.Is(err, context.Canceled) {
			p.log.Error("worker pool stopped", "error", err)
		}
	})
}

// KillWorkers stops the worker pool at once, as a crash or a Lambda
// timeout would: the context of every resolution in flight is cancelled
// (CRM and store calls in progress are cut off, whatever they had done
// stays done), and the triggers received and not yet deleted become
// visible again after WorkerVisibility. It returns when the pool has
// stopped; it does nothing when the pool is not running.
func (s *Stack) KillWorkers() {
	p := s.workers
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cancel == nil {
		return
	}
	p.cancel()
	<-p.stopped
	p.cancel, p.stopped = nil, nil
}

// StartWorkers starts the worker pool again after KillWorkers (a new
// process: nothing of the killed one is kept). It does nothing when the
// pool runs or the stack is closed.
func (s *Stack) StartWorkers() {
	p := s.workers
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cancel != nil || p.parent.Err() != nil {
		return
	}
	p.start()
}
