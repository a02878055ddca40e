// Types of install-spire.mjs (a plain Node script, also imported by the vitest global setup).
export declare const SPIRE_VERSION: string
export declare const spireBin: string
export declare const goPeerBin: string
export declare function hasGo(): boolean
export declare function installInteropBinaries(): { spireServer: string; spireAgent: string; goPeer: string }
