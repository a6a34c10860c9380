/** `@modelpress/evaluate`: datasets, sessions and metrics. @module */
