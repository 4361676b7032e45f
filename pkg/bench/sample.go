package bench

import (
	"math"
	"sort"
)

// Sample is a set of measurements of one quantity.
type Sample struct {
	values []float64
	sorted bool
}

// Add adds a measurement.
func (s *Sample) Add(v float64) {
	s.values = append(s.values, v)
	s.sorted = false
}

// N is the number of measurements.
func (s *Sample) N() int { return len(s.values) }

// Quantile returns the q-quantile (nearest rank; NaN when empty).
func (s *Sample) Quantile(q float64) float64 {
	if len(s.values) == 0 {
		return math.NaN()
	}
	if !s.sorted {
		sort.Float64s(s.values)
		s.sorted = true
	}
	i := int(math.Ceil(q*float64(len(s.values)))) - 1
	return s.values[min(max(i, 0), len(s.values)-1)]
}

// Mean returns the mean (NaN when empty).
func (s *Sample) Mean() float64 {
	if len(s.values) == 0 {
		return math.NaN()
	}
	t := 0.0
	for _, v := range s.values {
		t += v
	}
	return t / float64(len(s.values))
}
