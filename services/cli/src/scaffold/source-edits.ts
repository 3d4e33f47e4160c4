import { Node, Project, SyntaxKind, type ArrayLiteralExpression, type SourceFile } from 'ts-morph';

// Registering what a scaffolder wrote: an element added to an exported array (`EVENT_CONTRACTS`,
// `METRICS`, `SOURCE_MIGRATIONS`, `EXPECTATIONS`) with the import it needs, through the
// TypeScript syntax tree (ts-morph), so comments, order and formatting elsewhere stay as they are.

export interface ArrayAddition {
  /** The exported array's variable name. */
  array: string;
  /** The element's source text. */
  element: string;
  /** The import the element needs, if any. */
  import?:
    | { moduleSpecifier: string; namedImport: string }
    | { moduleSpecifier: string; namespaceImport: string };
}

/** Opens a source file for editing. */
export function openSource(path: string): SourceFile {
  const project = new Project({ skipAddingFilesFromTsConfig: true });
  return project.addSourceFileAtPath(path);
}

/** The array literal a `const NAME = [...]` (possibly `as const` or typed) is initialised with. */
function arrayOf(file: SourceFile, name: string): ArrayLiteralExpression {
  const declaration = file.getVariableDeclaration(name);
  let initializer = declaration?.getInitializer();
  while (initializer && Node.isAsExpression(initializer)) initializer = initializer.getExpression();
  if (!initializer || !Node.isArrayLiteralExpression(initializer)) {
    throw new Error(`${file.getBaseName()} has no array literal named ${name}`);
  }
  return initializer;
}

/** The source text of an array's elements, to check what it already holds. */
export function arrayElements(file: SourceFile, name: string): string[] {
  return arrayOf(file, name)
    .getElements()
    .map((element) => element.getText());
}

/** Adds the element at the array's end, and its import after the file's last import. */
export function addToArray(file: SourceFile, addition: ArrayAddition): void {
  const array = arrayOf(file, addition.array);
  array.addElement(addition.element, { useNewLines: true });
  const wanted = addition.import;
  if (wanted === undefined) return;
  if ('namedImport' in wanted) addNamedImport(file, wanted.moduleSpecifier, wanted.namedImport);
  else {
    file.insertImportDeclaration(file.getImportDeclarations().length, {
      moduleSpecifier: wanted.moduleSpecifier,
      namespaceImport: wanted.namespaceImport,
    });
  }
}

/** Imports `name` from the module, joining an import of that module if the file has one. */
export function addNamedImport(file: SourceFile, moduleSpecifier: string, name: string): void {
  const imports = file.getImportDeclarations();
  const existing = imports.find(
    (declaration) => declaration.getModuleSpecifierValue() === moduleSpecifier,
  );
  if (existing === undefined) {
    file.insertImportDeclaration(imports.length, { moduleSpecifier, namedImports: [name] });
  } else if (!existing.getNamedImports().some((specifier) => specifier.getName() === name)) {
    existing.addNamedImport(name);
  }
}

/** The string values of a property across an array's object literals (e.g. every `name`). */
export function propertyValues(file: SourceFile, array: string, property: string): string[] {
  return arrayOf(file, array)
    .getElements()
    .flatMap((element) => {
      if (!Node.isObjectLiteralExpression(element)) return [];
      const assigned = element.getProperty(property);
      if (!assigned || !Node.isPropertyAssignment(assigned)) return [];
      const value = assigned.getInitializerIfKind(SyntaxKind.StringLiteral);
      return value ? [value.getLiteralValue()] : [];
    });
}
