/** `@modelpress/cli`: the modelpress command line. @module */
