// Types of example-tests.mjs.
export declare function exampleTests(serverFile: URL): void
