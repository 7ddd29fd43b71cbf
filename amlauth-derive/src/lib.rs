//! `#[derive(Model)]`: one struct is the Terraform object of a resource, data source or
//! nested block. Each field maps to the attribute of its name (`#[model(name = "type")]` where
//! Rust cannot spell it), so an attribute name is written once; the schema-walk test in
//! `src/resources/provider.rs` checks every schema against its model.
//!
//! A `#[model(may_be_absent)]` field reads as its default when the object has no such attribute
//! (a model several schemas share, each with some of its attributes); every other field's
//! attribute must exist. On the struct, `#[model(may_be_absent)]` marks every field so.
//!
//! A `#[model(flatten)]` field is a struct (itself `#[derive(Model)]`) whose attributes sit in this
//! object, for attribute groups several models share.
//!
//! Generated: `ModelFields` (the fields read from and written to an object), `FromValue` /
//! `ToValue` (nested objects), `Model` (the root object), and, when the struct marks its `#[model(id)]`, `#[model(target)]` and
//! `#[model(timeouts)]` fields, `SettingModel` (see `src/resources/setting.rs`).

use proc_macro::TokenStream;
use proc_macro2::TokenStream as Tokens;
use quote::quote;
use syn::{Data, DeriveInput, Fields, Ident, LitStr, parse_macro_input};

struct FieldSpec {
    ident: Ident,
    name: String,
    role: Option<&'static str>,
}

fn field_specs(input: &DeriveInput) -> syn::Result<Vec<FieldSpec>> {
    let Data::Struct(data) = &input.data else {
        return Err(syn::Error::new_spanned(
            input,
            "derive(Model) needs a struct",
        ));
    };
    let Fields::Named(fields) = &data.fields else {
        return Err(syn::Error::new_spanned(
            input,
            "derive(Model) needs named fields",
        ));
    };
    // `#[model(may_be_absent)]` on the struct: the role of every field.
    let mut all_may_be_absent = false;
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("model")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("may_be_absent") {
                all_may_be_absent = true;
                Ok(())
            } else {
                Err(meta.error("expected `may_be_absent` on the struct"))
            }
        })?;
    }
    let mut out = Vec::new();
    for f in &fields.named {
        let Some(ident) = f.ident.clone() else {
            continue;
        };
        let mut name = ident.to_string().trim_start_matches("r#").to_string();
        let mut role = all_may_be_absent.then_some("may_be_absent");
        for attr in f.attrs.iter().filter(|a| a.path().is_ident("model")) {
            attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("name") {
                    name = meta.value()?.parse::<LitStr>()?.value();
                } else if meta.path.is_ident("id") {
                    role = Some("id");
                } else if meta.path.is_ident("target") {
                    role = Some("target");
                } else if meta.path.is_ident("timeouts") {
                    role = Some("timeouts");
                } else if meta.path.is_ident("flatten") {
                    role = Some("flatten");
                } else if meta.path.is_ident("may_be_absent") {
                    role = Some("may_be_absent");
                } else {
                    return Err(meta.error(
                        "expected `name = \"…\"`, `id`, `target`, `timeouts`, `flatten` or `may_be_absent`",
                    ));
                }
                Ok(())
            })?;
        }
        out.push(FieldSpec { ident, name, role });
    }
    Ok(out)
}

#[proc_macro_derive(Model, attributes(model))]
pub fn derive_model(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    match expand(&input) {
        Ok(t) => t.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

fn expand(input: &DeriveInput) -> syn::Result<Tokens> {
    let specs = field_specs(input)?;
    let ty = &input.ident;
    let (impl_g, ty_g, where_g) = input.generics.split_for_impl();
    let fw = quote!(::amlauth::framework);
    // A `#[model(flatten)]` field is a struct whose attributes sit in this object.
    let reads = specs.iter().map(|s| {
        let (ident, name) = (&s.ident, &s.name);
        if s.role == Some("flatten") {
            quote!(#ident: #fw::model::ModelFields::read_fields(o)?)
        } else if s.role == Some("may_be_absent") {
            quote!(#ident: if o.has(#name) {
                #fw::model::ModelField::read(o, #name)?
            } else {
                ::std::default::Default::default()
            })
        } else {
            quote!(#ident: #fw::model::ModelField::read(o, #name)?)
        }
    });
    let writes = specs.iter().map(|s| {
        let (ident, name) = (&s.ident, &s.name);
        if s.role == Some("flatten") {
            quote!(let b = #fw::model::ModelFields::write_fields(&self.#ident, b);)
        } else {
            quote!(let b = b.value(#name, #fw::model::ModelField::write(&self.#ident));)
        }
    });

    let role = |r: &str| specs.iter().find(|s| s.role == Some(r)).map(|s| &s.ident);
    let target_name = specs
        .iter()
        .find(|s| s.role == Some("target"))
        .map(|s| s.name.clone())
        .unwrap_or_default();
    let setting = match (role("id"), role("target"), role("timeouts")) {
        (Some(id), Some(target), Some(timeouts)) => quote! {
            impl #impl_g ::amlauth::resources::setting::SettingModel for #ty #ty_g #where_g {
                const TARGET: &'static str = #target_name;
                fn id(&self) -> &#fw::Field<::std::string::String> { &self.#id }
                fn id_mut(&mut self) -> &mut #fw::Field<::std::string::String> { &mut self.#id }
                fn target(&self) -> &#fw::Field<::std::string::String> { &self.#target }
                fn target_mut(&mut self) -> &mut #fw::Field<::std::string::String> { &mut self.#target }
                fn timeouts(&self) -> &#fw::Field<#fw::timeouts::Timeouts> { &self.#timeouts }
            }
        },
        (None, None, None) => quote!(),
        _ => {
            return Err(syn::Error::new_spanned(
                input,
                "a setting model marks all three of #[model(id)], #[model(target)] and #[model(timeouts)]",
            ));
        }
    };

    Ok(quote! {
        impl #impl_g #fw::model::ModelFields for #ty #ty_g #where_g {
            fn read_fields(
                o: &#fw::ObjectReader<'_>,
            ) -> ::std::result::Result<Self, #fw::Diagnostics> {
                Ok(Self { #( #reads, )* })
            }

            fn write_fields(&self, b: #fw::ObjectBuilder) -> #fw::ObjectBuilder {
                #( #writes )*
                b
            }
        }

        impl #impl_g #fw::FromValue for #ty #ty_g #where_g {
            fn from_value(
                v: &::amlauth::value::Value,
                path: &::amlauth::value::path::AttributePath,
            ) -> ::std::result::Result<Self, #fw::Diagnostics> {
                let o = #fw::ObjectReader::new(v, path.clone())?;
                #fw::model::ModelFields::read_fields(&o)
            }
        }

        impl #impl_g #fw::ToValue for #ty #ty_g #where_g {
            fn to_value(&self) -> ::amlauth::value::Value {
                #fw::model::ModelFields::write_fields(self, #fw::ObjectBuilder::new()).build()
            }
        }

        impl #impl_g #fw::Model for #ty #ty_g #where_g {}

        #setting
    })
}
