/* page behaviour: see the browser page issue */
