package server

import (
	"github.com/unsilo/unsilo/functions/cluster"
	"github.com/unsilo/unsilo/functions/compose"
	"github.com/unsilo/unsilo/functions/datalake"
	"github.com/unsilo/unsilo/functions/knowledgebase"
	"github.com/unsilo/unsilo/functions/network"
	"github.com/unsilo/unsilo/functions/staticsite"
	"github.com/unsilo/unsilo/functions/webportal"
)

// APIs is every platform API this function serves. Adding an API is one
// package under functions/, one folder under compositions/, and one line here.
func APIs() []compose.API {
	return []compose.API{
		network.API{},
		cluster.API{},
		staticsite.API{},
		webportal.API{},
		knowledgebase.API{},
		datalake.API{},
	}
}
