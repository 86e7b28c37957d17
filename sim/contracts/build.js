#!/usr/bin/env node
// Compiles src/*.sol with the pinned solc-js (bundled wasm, works offline) and writes one artifact
// per contract to ../src/polymarket_sim/chain/artifacts/<Name>.json. Output is deterministic, so a
// rebuild with the same compiler leaves the committed artifacts unchanged.
// Usage: npm ci && node build.js   (or: npm run build)
"use strict";

const crypto = require("crypto");
const fs = require("fs");
const path = require("path");
const solc = require("solc");

const SRC = path.join(__dirname, "src");
const OUT = path.join(__dirname, "..", "src", "polymarket_sim", "chain", "artifacts");
// py-evm's newest VM is Prague; newer solc defaults (osaka) may emit opcodes it lacks.
const EVM_VERSION = "prague";

const sources = {};
for (const file of fs.readdirSync(SRC).filter((f) => f.endsWith(".sol")).sort()) {
  sources[file] = { content: fs.readFileSync(path.join(SRC, file), "utf8") };
}

const input = {
  language: "Solidity",
  sources,
  settings: {
    evmVersion: EVM_VERSION,
    optimizer: { enabled: true, runs: 200 },
    metadata: { bytecodeHash: "none" },
    outputSelection: {
      "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object", "storageLayout"] },
    },
  },
};

const output = JSON.parse(solc.compile(JSON.stringify(input)));
const errors = (output.errors || []).filter((e) => e.severity === "error");
for (const e of output.errors || []) console.error(e.formattedMessage);
if (errors.length) process.exit(1);

fs.mkdirSync(OUT, { recursive: true });
for (const [file, contracts] of Object.entries(output.contracts)) {
  for (const [name, c] of Object.entries(contracts)) {
    if (!c.evm.deployedBytecode.object) continue; // interfaces
    const artifact = {
      contractName: name,
      sourceName: file,
      // lets a test notice a source edited without rebuilding the artifacts
      sourceSha256: crypto.createHash("sha256").update(sources[file].content).digest("hex"),
      compiler: { solc: solc.version(), evmVersion: EVM_VERSION, optimizerRuns: 200 },
      abi: c.abi,
      bytecode: "0x" + c.evm.bytecode.object,
      deployedBytecode: "0x" + c.evm.deployedBytecode.object,
      storageLayout: c.storageLayout.storage.map((s) => ({
        label: s.label, slot: Number(s.slot), offset: s.offset, type: s.type,
      })),
    };
    fs.writeFileSync(path.join(OUT, `${name}.json`), JSON.stringify(artifact, null, 2) + "\n");
    console.log(`wrote ${path.relative(process.cwd(), path.join(OUT, name + ".json"))}`);
  }
}
