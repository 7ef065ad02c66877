package server

import (
	"github.com/unsilo/unsilo/functions/compose"
	"github.com/unsilo/unsilo/functions/network"
)

// APIs is every platform API this function serves. Adding an API is one
// package under functions/, one folder under compositions/, and one line here.
func APIs() []compose.API {
	return []compose.API{
		network.API{},
	}
}
