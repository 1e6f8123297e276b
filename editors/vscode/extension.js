// The VS Code client of `dsc lsp`: it starts the server over stdio for .dspec files. Plain
// JavaScript, no build step; its one dependency is vscode-languageclient (`npm install`).
'use strict';

const vscode = require('vscode');
const { LanguageClient, TransportKind } = require('vscode-languageclient/node');

let client;

function serverCommand() {
  const config = vscode.workspace.getConfiguration('dsc');
  const folder = (vscode.workspace.workspaceFolders || [])[0];
  const root = folder ? folder.uri.fsPath : '';
  const command = config.get('server.command', 'dsc').replace(/\$\{workspaceFolder\}/g, root);
  return { command, args: config.get('server.args', ['lsp']), transport: TransportKind.stdio };
}

function activate(context) {
  const clientOptions = {
    documentSelector: [
      { scheme: 'file', language: 'dspec' },
      { scheme: 'untitled', language: 'dspec' },
    ],
  };
  client = new LanguageClient('dsc', 'dsc language server', serverCommand(), clientOptions);
  context.subscriptions.push(
    vscode.commands.registerCommand('dsc.restartServer', () => client.restart()),
  );
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
