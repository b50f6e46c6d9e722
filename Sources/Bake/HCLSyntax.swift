/// The parsed form of an HCL (or HCL-JSON) bake file, before evaluation: a body of
/// attributes and blocks whose values are expressions, each with its position.
public struct HCLBody: Sendable {
    public var attributes: [HCLAttribute] = []
    public var blocks: [HCLBlock] = []
}

public struct HCLAttribute: Sendable {
    public var name: String
    public var expression: HCLExpression
    public var position: SourcePosition
}

public struct HCLBlock: Sendable {
    public var type: String
    public var labels: [String]
    public var body: HCLBody
    public var position: SourcePosition
}

/// One piece of a string template: literal text or a `${…}` interpolation.
public enum TemplatePart: Sendable {
    case text(String)
    case interpolation(HCLExpression)
}

/// HCL's expression language, the part bake files use: literals, templates, tuples, objects,
/// variables and traversals, function calls, operators, conditionals and `for` expressions.
public indirect enum HCLExpression: Sendable {
    case literal(BakeValue, SourcePosition)
    case template([TemplatePart], SourcePosition)
    case tuple([HCLExpression], SourcePosition)
    /// Keys are expressions: a bare identifier key is a `.literal` string.
    case object([(key: HCLExpression, value: HCLExpression)], SourcePosition)
    case variable(String, SourcePosition)
    case attribute(HCLExpression, String, SourcePosition)
    case index(HCLExpression, HCLExpression, SourcePosition)
    /// `expand`: the last argument ends in `...` (its elements are the arguments).
    case call(String, [HCLExpression], expand: Bool, SourcePosition)
    case unary(String, HCLExpression, SourcePosition)
    case binary(String, HCLExpression, HCLExpression, SourcePosition)
    case conditional(HCLExpression, HCLExpression, HCLExpression, SourcePosition)
    case forExpression(ForClause, SourcePosition)

    public var position: SourcePosition {
        switch self {
        case .literal(_, let p), .template(_, let p), .tuple(_, let p), .object(_, let p), .variable(_, let p),
             .attribute(_, _, let p), .index(_, _, let p), .call(_, _, _, let p), .unary(_, _, let p),
             .binary(_, _, _, let p), .conditional(_, _, _, let p), .forExpression(_, let p):
            return p
        }
    }
}

/// `[for K, V in COLL : VALUE if COND]` or `{for K, V in COLL : KEY => VALUE if COND}`.
public struct ForClause: Sendable {
    public var keyName: String?
    public var valueName: String
    public var collection: HCLExpression
    /// Set for the object form.
    public var keyExpression: HCLExpression?
    public var valueExpression: HCLExpression
    public var condition: HCLExpression?
    /// `...` after the value of the object form: values of equal keys are grouped in lists.
    public var grouping: Bool
}
